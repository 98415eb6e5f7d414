"""Extraction runs: snapshot {provider, model, key} at enqueue, execute off the request path.

The snapshot is what makes a key rotation safe: the run's key is sealed into the run's own
row (bound to the run id) when it is enqueued, so replacing or removing the profile key
later changes nothing for it. The queue carries only the run id. The sealed snapshot is
erased when the run finishes, whatever the outcome.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

from .environments import get_environment, resolve_environment
from .errors import KeyUnreadable, NotFound, QueueUnavailable, ValidationError
from .models import Run, User, db, utcnow, valid_id
from .providers import run_chat
from .settings import Settings
from .vault import VaultError, key_context, run_context

log = logging.getLogger("tracore.runs")

MAX_INPUT = 20_000
FINAL = ("succeeded", "failed")
# A run still "running" this long after it started lost its worker (no attempt takes this
# long: provider timeouts and retry waits are seconds). The queue dropped its task with it.
INTERRUPTED_AFTER = dt.timedelta(minutes=15)


@dataclass(frozen=True)
class RetryPolicy:
    """Transient provider failures are retried ``max_attempts`` times in all, waiting
    ``base_delay``, then twice that, and so on."""

    max_attempts: int = 3
    base_delay: float = 2.0

    def delay(self, attempt: int) -> float:
        return self.base_delay * (2 ** (attempt - 1))


def enqueue(
    settings: Settings,
    user: User,
    workspace_slug: str,
    environment_slug: str,
    text: str | None,
    submit: Callable[[int], None],
) -> Run:
    """Resolve the environment, snapshot what it runs with, and hand the run id to ``submit``
    (the queue) once the snapshot is committed."""
    if not isinstance(text, str) or not text.strip():
        raise ValidationError("Give the run some input.", field="input")
    if len(text) > MAX_INPUT:
        raise ValidationError(f"Input is at most {MAX_INPUT:,} characters.", field="input")
    environment = get_environment(user, workspace_slug, environment_slug)
    resolution = resolve_environment(settings, environment)
    if resolution.uses_system_key and not settings.system_mistral_key:
        raise ValidationError(
            "This environment uses the system Mistral key, and this server has none "
            "configured (TRACORE_SYSTEM_MISTRAL_API_KEY). Assign one of your keys.",
            field="environment",
        )
    with db.atomic():
        run = Run.create(
            user=user, environment=environment,
            workspace_slug=environment.workspace.slug, environment_slug=environment.slug,
            status="queued", provider=resolution.provider, model=resolution.model,
            uses_system_key=resolution.uses_system_key,
            key_hint=resolution.key.key_hint if resolution.key else None, input=text,
        )
        if resolution.key is not None:
            key = resolution.key
            try:
                plaintext = settings.vault.open_sealed(
                    key.sealed_key, key_context(user.id, key.provider))
            except VaultError:
                raise KeyUnreadable(
                    "Your stored key can't be decrypted with this server's master key. "
                    "Replace it on your profile."
                ) from None
            run.sealed_key = settings.vault.seal(plaintext, run_context(run.id))
            del plaintext
            run.save(only=[Run.sealed_key])
    try:
        submit(run.id)
    except Exception as error:  # noqa: BLE001 - any queue failure fails the run visibly
        log.error("run %s could not be queued: %s", run.id, type(error).__name__)
        _finish(run, "failed", error="The run queue is unavailable; start the run again.")
        raise QueueUnavailable("The run queue is unavailable; try again shortly.") from None
    return run


def get_run(user: User, run_id: int) -> Run:
    """One of the user's runs; anyone else's is NotFound."""
    run = Run.get_or_none(Run.id == run_id, Run.user == user) if valid_id(run_id) else None
    if run is None:
        raise NotFound("No such run.")
    return run


def recent_runs(user: User, limit: int = 20) -> list[Run]:
    return list(
        Run.select().where(Run.user == user).order_by(Run.id.desc()).limit(limit)
    )


def requeue_interrupted(submit: Callable[[int], None], now: dt.datetime | None = None) -> list[int]:
    """Queue again the runs a stopped or killed worker left "running"; returns their ids.

    A worker calls this when it starts. The key snapshot is still sealed in each row.
    """
    cutoff = (now or utcnow()) - INTERRUPTED_AFTER
    stale = Run.select(Run.id).where(Run.status == "running", Run.started_at < cutoff)
    requeued = []
    for (run_id,) in stale.tuples():
        claimed = (
            Run.update(status="queued", error="The worker stopped during this run; queued again.")
            .where(Run.id == run_id, Run.status == "running")
            .execute()
        )
        if claimed:  # another worker starting at the same time may have claimed it first
            submit(run_id)
            requeued.append(run_id)
    return requeued


def _finish(run: Run, status: str, *, output: str | None = None, error: str | None = None):
    run.status = status
    run.output = output
    run.error = error
    run.sealed_key = None  # the snapshot goes with the run's end, success or not
    run.finished_at = utcnow()
    run.save()


def execute_run(
    settings: Settings,
    run_id: int,
    retry: Callable[[float], None],
    policy: RetryPolicy | None = None,
) -> None:
    """Execute one attempt of a run; on a transient failure call ``retry(delay)`` while
    attempts remain. A run already final (or gone) is left alone."""
    policy = policy or RetryPolicy()
    run = Run.get_or_none(Run.id == run_id)
    if run is None or run.status in FINAL:
        return
    run.status = "running"
    run.attempts += 1
    run.started_at = run.started_at or utcnow()
    run.save(only=[Run.status, Run.attempts, Run.started_at])

    provider = settings.registry.get(run.provider)
    if provider is None:
        return _finish(run, "failed", error=f"Provider {run.provider!r} is not configured.")
    if run.uses_system_key:
        key = settings.system_mistral_key
        if not key:
            return _finish(run, "failed", error="No system Mistral key is configured.")
    else:
        try:
            key = settings.vault.open_sealed(run.sealed_key, run_context(run.id))
        except VaultError as error:
            log.error("run %s: key snapshot can't be opened: %s", run.id, error)
            return _finish(run, "failed", error="The key snapshot of this run can't be "
                                                 "decrypted; start the run again.")

    outcome = run_chat(provider, key, run.model, run.input, settings.provider_timeout)
    del key
    if outcome.kind == "ok":
        return _finish(run, "succeeded", output=outcome.text)
    if outcome.kind == "rejected":
        return _finish(run, "failed", error=f"{outcome.detail}. Replace the key and run again.")
    if outcome.kind == "transient" and run.attempts < policy.max_attempts:
        delay = policy.delay(run.attempts)
        run.status = "queued"
        run.error = (f"{outcome.detail}; retrying in {delay:g} s "
                     f"(attempt {run.attempts + 1} of {policy.max_attempts})")
        run.save(only=[Run.status, Run.error])
        retry(delay)
        return None
    attempts = f" after {run.attempts} attempts" if run.attempts > 1 else ""
    return _finish(run, "failed", error=f"{outcome.detail}{attempts}.")
