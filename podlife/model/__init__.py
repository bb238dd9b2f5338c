"""podlife's executable reading of upstream's pod lifecycle: what a correct kubelet and
control plane may do with a pod, as rules that judge what was observed.

Pure Python, no cluster: a rule takes a pod (its spec and status, as the API returned
them) and the pod's timeline of ns-stamped container events, and answers with violations,
or says it cannot judge (missing evidence is not absence). Each rule cites the upstream
document or kubelet function it reads, and the releases it holds for. The check layer
runs every rule on every pod a check created (podlife.check.invariants).
"""
