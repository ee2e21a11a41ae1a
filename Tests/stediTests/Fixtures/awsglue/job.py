"""Job: init and commit, recorded but without bookmark state."""
from awsglue import _log


class Job:
    def __init__(self, glue_context):
        self.glue_context = glue_context
        self.name = None

    def init(self, job_name, args=None):
        self.name = job_name
        self.glue_context._job_name = job_name
        _log("init", job=job_name)

    def commit(self):
        if self.name is None:
            raise RuntimeError("Job.commit before Job.init")
        _log("commit", job=self.name)
