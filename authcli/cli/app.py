"""The root typer app: joins the command modules and adds --version."""

from __future__ import annotations

import sys
from typing import Optional

import typer

try:  # typer 0.28 carries its own copy of click; older typers use click itself
    from typer._click import exceptions as click_errors
except ImportError:  # pragma: no cover
    from click import exceptions as click_errors

from authcli import __version__
from authcli.cli import classroom, demo
from authcli.cli.bench import bench
from authcli.cli.decode import decode
from authcli.cli.keys import keys
from authcli.cli.lab import crack, lab
from authcli.cli.serve import serve
from authcli.cli.sign import sign
from authcli.cli.tamper import tamper

# rich_markup_mode=None: plain click help and usage errors. Rich help panels cost ~50 ms per
# --help (benchmarks/startup.py); authcli's own output still uses rich.
app = typer.Typer(
    name="authcli",
    rich_markup_mode=None,
    help="See web authentication work: a tiny local server and a scripted client, narrated step by step."
         "\n\n\b\nStart here:\n"
         "  authcli demo session     session cookies, from login to logout\n"
         "  authcli demo jwt         JWTs: sign, send, verify, expire\n"
         "  authcli demo scaling     two servers behind a load balancer\n"
         "  authcli demo compare     both flows, then the handout's table filled in\n"
         "  authcli decode TOKEN     take a real token apart (and verify it)\n"
         "  authcli sign --sub 1     make a token (authcli keys makes a key pair)\n"
         "  authcli tamper TOKEN     edit a token the way attackers do (then decode it)\n"
         "  authcli lab              attacks on a weak server, then on the hardened one\n"
         "  authcli class start      the whole room predicts each step from its own devices",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # -h as well, as in curl and httpie; subcommands inherit it from this context.
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _usage_metavar(make):
    """typer 0.28 writes a required argument as {TOKEN} in usage lines, which reads as a set to
    pick from; click and man pages write TOKEN."""
    def make_metavar(self, ctx, *, usage: bool = False) -> str:
        var = make(self, ctx, usage=usage)
        return var[1:-1] if usage and var.startswith("{") and var.endswith("}") else var
    return make_metavar


if not getattr(typer.core.TyperArgument.make_metavar, "_authcli", False):
    typer.core.TyperArgument.make_metavar = _usage_metavar(typer.core.TyperArgument.make_metavar)
    typer.core.TyperArgument.make_metavar._authcli = True


def _error_line(self, file=None) -> None:
    """click's errors in authcli's one style: `error: ...` on one line of stderr (as
    reports_errors writes them), then, for a usage error, where the help is. No usage block:
    the help is one command away."""
    from authcli.render.escape import printable

    message = " ".join(printable(self.format_message()).split())
    message = message[:1].lower() + message[1:].rstrip(".")  # "Missing argument." like the others
    ctx = getattr(self, "ctx", None)
    hint = f"\n({ctx.command_path} --help)" if isinstance(self, click_errors.UsageError) and ctx is not None else ""
    (file or sys.stderr).write(f"error: {message}{hint}\n")


if not getattr(click_errors.ClickException.show, "_authcli", False):
    for _cls in (click_errors.ClickException, click_errors.UsageError):
        _cls.show = _error_line
    _error_line._authcli = True

app.add_typer(demo.app, name="demo")
app.add_typer(classroom.app, name="class")
app.command("serve")(serve)
app.command("decode")(decode)
app.command("sign")(sign)
app.command("keys")(keys)
app.command("bench")(bench)
app.command("lab")(lab)
app.command("crack")(crack)
app.command("tamper")(tamper)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"authcli {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Optional[bool] = typer.Option(None, "--version", callback=_version, is_eager=True,
                                           help="Show the version and exit."),
) -> None:
    """Global options (the help text itself is the app's `help` above)."""

