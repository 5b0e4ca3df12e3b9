"""Privacy: erasing and exporting one end user's data, and the retention of served lists."""
