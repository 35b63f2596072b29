"""The event store: the ``eventsourcing`` library's SQLite and PostgreSQL recorders,
each extended the same two ways (selected by the library's own
``APPLICATION_RECORDER_TOPIC`` setting, see ``ledger.storage``):

* an entry's free text (``ledger.texts``) is written, and erased, in the same
  transaction as the events that refer to it: ``put(events, texts=[TextRow…],
  erase=[ref…])``, so an event never refers to a text that was not stored, and an
  erasure record is never without the erasure;
* (PostgreSQL) a batch of events goes in as four binary arrays.
"""
