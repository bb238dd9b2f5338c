"""The conformance checks. Installed, they are the package podlife.suites:
`pytest --pyargs podlife.suites --provider kubeconfig --kubeconfig FILE`."""
