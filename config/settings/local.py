"""Local development: make run. Values come from .local/env (make services)."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DEBUG", default=True)
# make services writes SECRET_KEY to .local/env; refuse to run without it rather
# than fall back to a guessable default.
SECRET_KEY = env("SECRET_KEY")
DEMO_TOOLS = True
ACCEPT_TEST_SSNS = True
# WhiteNoise serves straight from the finders (node_modules, static/); no collectstatic.
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
