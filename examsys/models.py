"""Imports every domain's models so that the metadata (migrations, tests) is complete."""

from examsys import ratelimit  # noqa: F401  (rate_limit_hits)
from examsys.accounts import models as accounts_models  # noqa: F401
from examsys.analysis import models as analysis_models  # noqa: F401
from examsys.assembly import models as assembly_models  # noqa: F401
from examsys.audit import models as audit_models  # noqa: F401
from examsys.bank import models as bank_models  # noqa: F401
from examsys.campaign.certdata import models as certdata_models  # noqa: F401
from examsys.campaign.satisfaction import models as satisfaction_models  # noqa: F401
from examsys.campaign.workforce import models as workforce_models  # noqa: F401
from examsys.delivery import models as delivery_models  # noqa: F401
from examsys.jobs import models as jobs_models  # noqa: F401
from examsys.standards import models as standards_models  # noqa: F401
from examsys.supervision import models as supervision_models  # noqa: F401
from examsys.supervision.assessment import models as assessment_models  # noqa: F401
from examsys.supervision.checks import models as checks_models  # noqa: F401
from examsys.supervision.directory import models as directory_models  # noqa: F401
from examsys.supervision.indicators import models as indicator_models  # noqa: F401
from examsys.supervision.plans import models as plan_models  # noqa: F401
