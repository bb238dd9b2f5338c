"""`podlife selftest`: the checks proved by mutants, Kubernetes built with one behaviour
broken each (mutants/*.diff), each of which some check must catch; upstream's own unit
tests show what each patch breaks."""
