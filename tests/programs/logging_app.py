# SPDX-License-Identifier: MIT
"""Logs records of every kind and writes, as JSON lines to the file given,
the lttng_python:event fields lttngust would record for each record that
reaches the root logger: the expected trace, computed by a reference
handler that formats a copy of the record as lttngust's handler does (and
by a filter, for the records below the root's level)."""

import copy
import json
import logging
import sys
import threading

MODE = sys.argv[1]
out = open(sys.argv[2], "w") if len(sys.argv) > 2 else sys.stdout
if MODE == "import":
    import pyust  # noqa: F401


class Reference(logging.Handler):
    """What lttngust's _Handler passes to its tracepoint, minus the encoding
    errors (pyust replaces what is not UTF-8 by '?')."""

    fmt = logging.Formatter("%(asctime)s")

    def emit(self, record):
        def text(s):
            return str(s).encode("utf-8", "replace").decode()

        try:
            fields = {
                "asctime": text(self.fmt.format(copy.copy(record))),
                "msg": text(record.getMessage()),
                "logger_name": text(record.name), "funcName": text(record.funcName),
                "lineno": record.lineno, "int_loglevel": record.levelno,
                "thread": record.thread & 0xFFFFFFFF, "threadName": text(record.threadName),
            }
        except ValueError:
            return  # a record logging itself cannot format is not recorded
        out.write(json.dumps(fields) + "\n")


class BelowRoot(logging.Filter):
    """The records the program's handlers never get, below the root's level,
    which pyust makes for a session that asks for them: as lttngust, whose
    root logger is at NOTSET, would record them."""

    def filter(self, record):
        if record.levelno < logging.getLogger().level:
            Reference().emit(record)
        return True


class Broken:
    def __str__(self):
        raise ValueError("broken __str__")


class Shouting(logging.LogRecord):
    """A record class of the program's own: its getMessage is the one used."""

    def getMessage(self):
        return super().getMessage().upper()


class ThreadNameOfClass(logging.LogRecord):
    threadName = property(lambda self: "of the class")


class Meddler:
    """An argument whose __str__ changes the record being recorded: moves its
    attributes into a __dict__ (3.11, 3.12) and sets one, or replaces its
    __dict__, or changes its class. What is read after must be what getattr
    gives then."""

    def __init__(self, how):
        self.record, self.how = None, how

    def __str__(self):
        rec, self.record = self.record, None
        if rec is None:
            pass
        elif self.how == "set":
            vars(rec)
            rec.funcName = "meddled"
        elif self.how == "replace":
            rec.__dict__ = dict(vars(rec), funcName="replaced")
        else:
            rec.__class__ = ThreadNameOfClass
        return "meddler"


def hand_record_to_meddler(record):
    if record.args:
        record.args[0].record = record
    return True


def give_log_record_a_thread_name(record):
    """LogRecord changed once the record is made: its threadName is the class's."""
    logging.LogRecord.threadName = property(lambda r: "of LogRecord")
    return True


def odd_msecs(record):
    record.msecs = 1234.5  # formatted by Python's "%03d" path
    return True


def work():
    log = logging.getLogger("shop.cart")
    log.info("added %d items to %s", 3, "cart-1")
    log.warning("stock low: %s", {"apples": 2})
    logging.getLogger("shop").error("non-ASCII: é ü 中 and a lone surrogate \udcff")
    try:
        {}["missing"]
    except KeyError:
        log.exception("lookup failed")
    log.critical("with stack", stack_info=True)
    log.error(Broken())  # recorded by nobody: getMessage() raises
    logging.getLogger("quiet").propagate = False
    logging.getLogger("quiet").error("does not reach the root")
    logging.getLogger("quiet").addHandler(logging.NullHandler())
    log.debug("below the root's level")
    logging.log(45, "custom level")
    log.info("%(user)s paid %(amount).2f", {"user": "ann", "amount": 3})
    log.info(["not", "a", "str"])
    log.info("100% sure, no args")
    odd = logging.getLogger("shop.odd")
    odd.addFilter(odd_msecs)
    odd.info("odd msecs")
    meddle = logging.getLogger("shop.meddle")
    meddle.addFilter(hand_record_to_meddler)
    for how in ("set", "replace", "class"):
        meddle.info("%s", Meddler(how))
    late = logging.getLogger("shop.meddle.late")
    late.info("LogRecord as it was")
    late.addFilter(give_log_record_a_thread_name)
    late.info("LogRecord changed")
    late.removeFilter(give_log_record_a_thread_name)
    del logging.LogRecord.threadName
    factory = logging.getLogRecordFactory()
    logging.setLogRecordFactory(Shouting)
    log.info("custom %s", "record")
    logging.setLogRecordFactory(factory)


if MODE in ("preload", "import"):
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    root.addHandler(Reference())
    logging.getLogger("shop.cart").addFilter(BelowRoot())
    work()
    t = threading.Thread(target=work, name="worker-\u00e9")
    t.start()
    t.join()
elif MODE == "huge":
    logging.getLogger().addHandler(Reference())
    logging.getLogger("big").warning("x" * (10 * 1024 * 1024))
    logging.getLogger("big").warning("after")
out.flush()
