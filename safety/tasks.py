from celery import shared_task

from safety import services


@shared_task(name="safety.tasks.apply_fvi_removals", ignore_result=True)
def apply_fvi_removals() -> None:
    """Take off flags whose approved removal has waited its full period."""
    services.fvi_removals_apply()
