"""``python -m customer_segmentation.report --out reports/segmentation_report.html``."""

import sys

from customer_segmentation.report.render import main

sys.exit(main())
