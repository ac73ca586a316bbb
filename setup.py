"""Map the top-level folders onto the one `turnout` namespace (see pyproject.toml)."""

from setuptools import find_packages, setup

FOLDERS = ("backend", "tui", "themes")

packages: list[str] = []
package_dir: dict[str, str] = {}
for folder in FOLDERS:
    root = f"turnout.{folder}"
    package_dir[root] = folder
    packages.append(root)
    packages.extend(f"{root}.{sub}" for sub in find_packages(folder))

setup(
    packages=packages,
    package_dir=package_dir,
    package_data={"turnout.tui": ["*.tcss"], "turnout.themes": ["*.yaml"], "turnout.backend": ["py.typed"]},
)
