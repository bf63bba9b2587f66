# SPDX-License-Identifier: MIT
"""A program that never configures the root logger (it stays at WARNING), as
most scripts and libraries: what a session gets of its records, with pyust
or with lttngust ("lttngust" as first argument imports it first), and what
it prints, which must be the same with pyust as without a tracer."""

import logging
import sys

if sys.argv[1:] == ["lttngust"]:
    import lttngust  # noqa: F401

log = logging.getLogger("app")


def below_and_above():
    log.info("info, below the root's level")
    log.debug("debug, below the root's level")
    log.warning("warning")
    log.log(25, "custom level %d", 25)
    log.info(msg="msg as a keyword")
    logging.LoggerAdapter(log, {"k": 1}).debug("through an adapter")
    try:
        1 / 0
    except ZeroDivisionError:
        logging.getLogger("app.sub").exception("exception, at ERROR")


def levels_of_the_program():
    strict = logging.getLogger("app.strict")
    strict.setLevel(logging.ERROR)
    strict.warning("refused by its own level")
    strict.error("error, let through")
    logging.getLogger("app.strict.child").info("refused by a parent's level")
    lone = logging.getLogger("lone")
    lone.propagate = False
    lone.debug("does not reach the root")
    filtered = logging.getLogger("app.filtered")
    filtered.addFilter(lambda r: "keep" in r.getMessage())
    filtered.debug("keep this one")
    filtered.debug("drop this one")
    logging.disable(logging.INFO)
    log.info("refused by logging.disable")
    logging.disable(logging.NOTSET)
    own = logging.getLogger("app.own")
    handler = logging.StreamHandler(sys.stdout)
    handler.setLevel(logging.DEBUG)
    own.addHandler(handler)
    own.debug("below the level: never printed")
    own.warning("printed by the program's handler")


below_and_above()
levels_of_the_program()
# logging.info() calls basicConfig() when the root has no handler (as without
# lttngust, whose handler is there): the warnings after it are printed so.
logging.info("root info")
log.warning("after basicConfig")
print("done")
