"""`make demo`: the main job. Replaced by the end-to-end simulated pass (ground-segment issue)."""
import subprocess
import sys

sys.exit(subprocess.call([sys.executable, "-m", "ground.cli", "dictionary", "--markdown"]))
