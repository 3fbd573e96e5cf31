"""Run a command; print its wall time and the peak RSS of its largest process (KiB) as JSON."""

import json
import resource
import subprocess
import sys
import time

started = time.perf_counter()
code = subprocess.run(sys.argv[1:], check=False).returncode
seconds = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"seconds": seconds, "peak_kib": peak, "code": code}), file=sys.stderr)
sys.exit(code)
