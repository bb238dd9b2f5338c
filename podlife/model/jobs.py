"""What a correct Job controller does with a generated pod as its template: whether the
Job completes or fails, why, and how many pods it creates on the way.

Sources, at every pinned release (v1.28.15 to v1.37.2, the same code in each):
- docs concepts/workloads/controllers/job ("Pod backoff failure policy", "Pod failure
  policy", "Job termination and cleanup");
- KEP-3329 (retriable and non-retriable pod failures: podFailurePolicy);
- pkg/controller/job: job_controller.go syncJob (a failed pod counts against backoffLimit
  under Never; pastBackoffLimitOnFailure counts container restarts, sidecars' included,
  in pods still Pending or Running under OnFailure: more than 0 fails a Job whose limit
  is 0, at least the limit otherwise) and pod_failure_policy.go matchOnExitCodes (the app
  containers' statuses, then the init containers', terminated with a non-zero code).
"""

from __future__ import annotations

from dataclasses import dataclass

from podlife.model.generated import GenPod, Prediction, predict

#: The controller's delay before a failed pod's replacement (DefaultJobPodFailureBackOff).
POD_FAILURE_BACKOFF_S = 10


@dataclass(frozen=True)
class JobPrediction:
    """The Job's terminal condition (Complete or Failed) and its reason, how many pods it
    creates, and what each of them does (None when the controller deletes the pod while
    it runs, so the pod's own settling does not apply)."""

    condition: str
    reason: str | None
    pods: int
    each_pod: Prediction | None
    #: Under OnFailure, the most restarts any one container of its pod shows when the Job
    #: has failed: a failing container's first restart is immediate and crosses a limit of
    #: 0 or 1; a second would come only after a back-off of 10 s, long after the controller
    #: has acted. (Two apps failing together restart once each: 2 in all, seen on
    #: v1.37.2.) None: not predicted.
    restarts_each: int | None = None


def predict_job(template: GenPod) -> JobPrediction:
    """The outcome of the Job `template.job` whose pods all behave as `template`
    (deterministic scripts: a replacement fails as the first did)."""
    job = template.job
    if job is None:
        raise ValueError("a bare pod has no Job to predict")
    pod = predict(template)
    if pod.phase == "Succeeded":
        return JobPrediction("Complete", None, 1, pod)
    if template.restart_policy == "Never" and pod.phase == "Failed":
        failed_codes = {code for _, code in pod.exits if code not in (None, 0)}
        if job.fail_job_on is not None and job.fail_job_on in failed_codes:
            return JobPrediction("Failed", "PodFailurePolicy", 1, pod)
        return JobPrediction("Failed", "BackoffLimitExceeded", job.backoff_limit + 1, pod)
    if template.restart_policy == "OnFailure" and pod.phase in ("Pending", "Running"):
        # A container failed and is restarted in place: one restart is enough for a limit
        # of 0 (more than 0) and of 1 (at least 1); the controller then deletes the pod.
        if job.backoff_limit > 1:
            raise ValueError("the model predicts OnFailure Jobs with backoffLimit 0 or 1")
        return JobPrediction("Failed", "BackoffLimitExceeded", 1, None, restarts_each=1)
    raise ValueError(f"no Job prediction for a pod predicted {pod}: the grammar gives Jobs "
                     "pods whose apps all exit and whose sidecars serve")
