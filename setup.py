"""Which packages and data files the wheel carries (the rest of the build is
declared in pyproject.toml).

The contract folders at the top of the project travel in the wheel as
``gateway/_contracts/<folder>/``: each is mapped with setuptools'
``package_dir`` onto a data-only package under ``gateway._contracts``. So the
wheel carries them without a copy step of our own, an editable install keeps
reading the checkout itself, and no top-level ``fhir`` or ``soap`` package is
ever installed to shadow ``fhir.resources``. This lives here rather than in
pyproject.toml because ``packages.find`` cannot add mapped packages to the
ones it discovers, and pyproject's ``package-data`` would replace this one.
"""

from setuptools import find_namespace_packages, setup

# gateway.contracts.FOLDERS names the same folders (tests/test_packaging.py checks it).
CONTRACT_FOLDERS = ("profiles", "fhir", "soap", "mappings", "conformance")

setup(
    packages=[
        *find_namespace_packages(include=["gateway", "gateway.*"]),
        *(f"gateway._contracts.{folder}" for folder in CONTRACT_FOLDERS),
    ],
    package_dir={f"gateway._contracts.{folder}": folder for folder in CONTRACT_FOLDERS},
    # Exactly what is listed below: the checkout's other files (tests, docs, var/) stay out.
    include_package_data=False,
    package_data={
        # Read at run time beside the modules: Alembic's script template, the
        # sandbox PKI, the web pages' assets.
        "gateway": ["py.typed", "**/*.mako", "ehealth/data/**/*", "web/**/*"],
        **{f"gateway._contracts.{folder}": ["**/*"] for folder in CONTRACT_FOLDERS},
    },
    # The corpus generator is a maintainer's tool, not a contract.
    exclude_package_data={"": ["*.pyc"], "gateway._contracts.conformance": ["tools/*"]},
)
