"""``python -m linreg_core``: the command line (see _cli)."""

import sys

if __name__ == "__main__":
    try:
        from ._cli import run
    except KeyboardInterrupt:  # Ctrl-C in the instant before the command takes it over: the same one line
        if sys.stderr is not None:
            sys.stderr.write("interrupted\n")
        sys.exit(130)
    run()
