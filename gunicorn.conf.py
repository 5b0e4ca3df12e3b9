"""gunicorn settings, read from the working directory (scripts/up.sh starts it from the root).

The request line may be as long as gunicorn allows (8190 bytes, default 4094): ids of up to
EXTERNAL_ID_MAX characters, percent-encoded, and filter query strings reach the API, which
answers any fault in its JSON envelope. Only a line past 8190 bytes gets gunicorn's own 414.
"""

limit_request_line = 8190
limit_request_field_size = 8190
