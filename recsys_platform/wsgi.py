"""WSGI entry point (gunicorn recsys_platform.wsgi; gunicorn.conf.py holds its limits)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "recsys_platform.settings")
from recsys_platform.chunked import chunked_body

application = chunked_body(get_wsgi_application())
