"""The ``yibao`` command line: a lazy group of commands, errors reported once, no tracebacks.

Exit codes (as pySHACL's): 0 success / conforms, 1 violations or failed tests, 2 bad
input or usage, 130 interrupted.
"""

from __future__ import annotations

import importlib
import sys

import click

from kg import __version__
from kg.errors import KgError

# command name → "module:attribute"; modules are imported only when their command runs.
COMMANDS: dict[str, str] = {
    "build": "kg.commands.build:build",
    "stats": "kg.commands.build:stats",
    "demo": "kg.commands.build:demo",
    "generate": "kg.commands.generate:generate",
    "export": "kg.commands.export:export",
    "query": "kg.commands.query:query_command",
    "sparql": "kg.commands.query:sparql_command",
    "which-rule": "kg.commands.resolve:which_rule_command",
    "test": "kg.commands.resolve:test_command",
    "reimburse": "kg.commands.reimburse:reimburse_command",
    "validate": "kg.commands.validate:validate_command",
    "bench": "kg.commands.bench:bench_command",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, attr = target.split(":")
        command = getattr(importlib.import_module(module), attr)
        assert isinstance(command, click.Command)
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="yibao")
def cli() -> None:
    """yibao-kg: which cross-region medical insurance rule applies, and what it pays.

    异地就医医保规则知识图谱：适用哪条规则、报销多少。
    """


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``yibao`` script."""
    try:
        cli.main(args=argv, prog_name="yibao", standalone_mode=False)
    except KgError as exc:
        click.echo(f"error / 错误: {exc.render()}", err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("aborted / 已中止", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("interrupted / 已中断", err=True)
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(0)
    sys.exit(0)
