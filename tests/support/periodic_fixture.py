"""A periodic task for the Celery beat test only, loaded by its worker through
AIRLOCK_JOB_MODULES (never imported by the test process, whose schedulers would run it too).

`test.every_second` appends one `test.periodic_ran` audit row naming its slot, in the job's
transaction, so counting rows per slot counts the runs that took effect.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from airlock.core import audit
from airlock.core.schedule import periodic
from airlock.core.uow import UnitOfWork

EVERY_SECOND = "test.every_second"
PERIODIC_RAN = "test.periodic_ran"


@periodic(EVERY_SECOND, every=timedelta(seconds=1))
def every_second(uow: UnitOfWork, payload: Mapping[str, Any]) -> None:
    """Record that this slot ran."""
    audit.append(
        uow.session,
        action=PERIODIC_RAN,
        actor_label="test-worker",
        object_type="slot",
        object_id=str(payload["slot"]),
        detail={},
    )
