"""The screening app's jobs: reading a list (ETL), screening many subjects, the PDF report.

Each job's body runs in one transaction (``core.jobs``): a failed ETL run leaves the list's
previous entries as they were, a failed screening run keeps no match. The hooks record the
failure on the list or the run, which the job's rollback would otherwise lose.
"""

from django.db import OperationalError

from valar.core.jobs import JobTask, job
from valar.screening import services


class ProcessJob(JobTask):
    """Processing a list: a failure is written on the list (``status`` failed, ``last_error``)."""

    def on_finished(self, job) -> None:
        """Mark the list failed when the run failed; then tell the member who started it."""
        if job.state == "failed":
            services.document_process_failed(document_id=job.params["document"], error=job.error)
        super().on_finished(job)

    def on_cancelled(self, job) -> None:
        """A cancelled run changed nothing: the list is marked failed, saying so."""
        services.document_process_failed(document_id=job.params["document"], error="Cancelled.")


class RunJob(JobTask):
    """A screening run: a failure is written on the run; its kept file is removed."""

    def on_finished(self, job) -> None:
        """Mark the run failed when the job failed; then tell the member who started it."""
        if job.state == "failed":
            services.run_failed(run_id=job.params["run"], error=job.error)
        services.discard_run_file(job.params.get("file", ""))
        super().on_finished(job)

    def on_cancelled(self, job) -> None:
        """A cancelled run kept nothing."""
        services.run_failed(run_id=job.params["run"], error="Cancelled.")
        services.discard_run_file(job.params.get("file", ""))


@job(services.PROCESS_JOB, base=ProcessJob, retry_for=(OperationalError,))
def process_document(self, document: str, script: str) -> dict:
    """Read the list with the script and replace its entries (all or nothing)."""
    return services.document_process(document_id=document, script=script, progress=self.progress)


@job(services.RUN_JOB, base=RunJob, retry_for=(OperationalError,))
def run(self, run: str, file: str = "") -> dict:
    """Screen every subject of the run; its matches are kept together or not at all."""
    return services.run_execute(run_id=run, file=file, progress=self.progress)


@job(services.REPORT_JOB)
def report(self, run: str) -> dict:
    """Render the run's PDF report and keep it (``screening/report/{job_id}/`` serves it)."""
    return services.report_render(organization_id=self.job.organization_id, run_id=run)
