"""How results are kept and shown.

The typed records of a run (model), the results file on disk, the matrix merged from many
runs, the recorder that turns pytest's reports into records, upgrade hazards and the upgrade
chain's records, and report/ which renders all of them (HTML, JUnit, comparisons, text).
Nothing here needs a cluster: results from any machine merge the same.
"""
