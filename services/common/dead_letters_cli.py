"""``dead-letters list|show|replay ID|purge``: the same sub-command for every service."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence

import typer

from services.common import dead_letters

Where = Callable[[], tuple[str, Sequence[str]]]
"""Gives (AMQP URL, dead-letter queue names) from the service's settings when called."""


def group(where: Where) -> typer.Typer:
    cli = typer.Typer(add_completion=False, no_args_is_help=True,
                      help="Dead letters of this service's queues, with their reasons.")

    @cli.command("list")
    def list_() -> None:
        """One JSON line per dead letter: queue, message id, type, code, reason, when."""
        for letter in asyncio.run(dead_letters.listing(*where())):
            typer.echo(json.dumps(letter.brief(), ensure_ascii=False))

    @cli.command()
    def show(message_id: str) -> None:
        """One dead letter in full: its reason, where it was sent, its body."""
        for letter in asyncio.run(dead_letters.listing(*where())):
            if letter.message_id == message_id:
                body = letter.body.decode("utf-8", errors="replace")
                typer.echo(json.dumps(letter.brief() | {
                    "exchange": letter.exchange, "routing_key": letter.routing_key,
                    "body": body}, ensure_ascii=False, indent=2))
                return
        typer.echo(f"no dead letter {message_id}", err=True)
        raise typer.Exit(1)

    @cli.command()
    def replay(message_id: str) -> None:
        """Send one dead letter back to its queue, to be handled again."""
        letter = asyncio.run(dead_letters.replay(*where(), message_id))
        if letter is None:
            typer.echo(f"no dead letter {message_id}", err=True)
            raise typer.Exit(1)
        typer.echo(f"replayed {message_id} to {letter.queue.removesuffix('.dlq')}")

    @cli.command()
    def purge(yes: bool = typer.Option(False, "--yes", help="Really delete them")) -> None:
        """Delete every dead letter of this service (after reading them with list)."""
        if not yes:
            typer.echo("purge deletes every dead letter for good; add --yes", err=True)
            raise typer.Exit(2)
        typer.echo(f"purged {asyncio.run(dead_letters.purge(*where()))}")

    return cli
