"""The one table formatter of mmsofteq and its tools (prettytable, a dependency of mmseg):
:func:`text_table` for whole tables, :func:`markdown_header` / :func:`markdown_row` for tables
printed row by row as measurements finish."""
from __future__ import annotations

from typing import Sequence

from prettytable import PrettyTable

try:  # prettytable >= 3.12
    from prettytable import TableStyle
    MARKDOWN, PLAIN_COLUMNS = TableStyle.MARKDOWN, TableStyle.PLAIN_COLUMNS
except ImportError:  # pragma: no cover - older prettytable
    from prettytable import MARKDOWN, PLAIN_COLUMNS

TABLE_STYLES = ('plain', 'markdown')


def text_table(columns: Sequence[str], rows: Sequence[Sequence[object]],
               style: str = 'plain') -> str:
    """``rows`` under ``columns`` as text: ``'plain'`` (borderless, left-aligned columns,
    for logs and terminals) or ``'markdown'`` (a GitHub table, for docs). Values are
    printed with ``str``."""
    if style not in TABLE_STYLES:
        raise ValueError(f'style must be one of {TABLE_STYLES}, got {style!r}')
    table = PrettyTable([str(column) for column in columns])
    if style == 'plain':
        table.set_style(PLAIN_COLUMNS)
        table.right_padding_width = 2
    else:
        table.set_style(MARKDOWN)
    table.align = 'l'
    for row in rows:
        table.add_row([str(value) for value in row])
    return table.get_string()


def markdown_row(values: Sequence[object]) -> str:
    """One row of a GitHub table, ``| a | b |``: for tables printed row by row as long
    measurements finish (the benchmarks); values are printed with ``str``."""
    return '| ' + ' | '.join(str(value) for value in values) + ' |'


def markdown_header(columns: Sequence[str]) -> str:
    """The header and separator lines of a GitHub table whose rows :func:`markdown_row`
    prints (the same table :func:`text_table` writes with ``style='markdown'``, unpadded)."""
    return markdown_row(columns) + '\n|' + ' --- |' * len(columns)
