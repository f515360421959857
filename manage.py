#!/usr/bin/env python
import os
import sys


def main() -> None:
    # Production unless told otherwise: demo tools and DEBUG are never on by accident.
    # make run / make test / the Makefile set config.settings.local or .test.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
