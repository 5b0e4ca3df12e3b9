# Sourced by scripts/test.sh: the browser tests drive Debian's chromium; install it when missing.
if [ ! -x /usr/bin/chromium ]; then
  echo "== installing chromium for the browser tests (apt-get)"
  if [ "$(id -u)" -eq 0 ]; then apt-get install -y chromium || { apt-get update && apt-get install -y chromium; }
  else sudo apt-get install -y chromium || { sudo apt-get update && sudo apt-get install -y chromium; }
  fi
fi
