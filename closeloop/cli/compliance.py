"""`closeloop compliance`: the compliance matrix shipped with this version.

Each clause (ISO 9001, ISO 10002, ISO 13485, 21 CFR 820.35 and 803, EU MDR, 21 CFR Part 11),
what Closeloop does for it, the tests that prove it, and what is left to you. The matrix is
generated from the tests' clause markers when Closeloop is built (`docs/compliance.md`);
this prints the copy shipped in the package, so it needs neither the tests nor a server.
"""

from __future__ import annotations

import click

from audit.compliance.matrix import shipped, to_json, to_markdown, to_text


@click.command()
@click.option("--json", "as_json", is_flag=True, help="The matrix as JSON (one row per clause).")
@click.option("--markdown", is_flag=True, help="The matrix as docs/compliance.md has it.")
def compliance(as_json: bool, markdown: bool) -> None:
    """Print the compliance matrix: clause, feature, proving tests, what is yours to do."""
    rows = shipped()
    if as_json:
        click.echo(to_json(rows), nl=False)
    elif markdown:
        click.echo(to_markdown(rows), nl=False)
    else:
        click.echo(to_text(rows), nl=False)
