"""The kernel's job: writing an import (``POST <list>/import/``) in the background."""

from valar.core import imports
from valar.core.jobs import JobTask, job


class ImportJob(JobTask):
    """The import job's task: removes the kept file once the job has ended, however it ended."""

    def on_finished(self, job) -> None:
        """Tell the member who started it (the base's), then remove the file."""
        try:
            super().on_finished(job)
        finally:
            imports.discard_file(job.params.get("file", ""))

    def on_cancelled(self, job) -> None:
        """Remove the file of a cancelled import."""
        imports.discard_file(job.params.get("file", ""))


@job(imports.IMPORT_JOB, base=ImportJob)
def import_rows(self, resource: str, file: str, filename: str = "") -> dict:
    """Create the rows of the kept ``file`` in ``resource``, all or none (``core.imports``)."""
    return imports.run_import(job=self.job, resource=resource, file=file)
