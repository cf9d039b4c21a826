import sys

from genprep.cli import main

sys.exit(main())
