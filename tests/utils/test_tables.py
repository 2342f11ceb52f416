"""mmsofteq.utils.tables: the one table formatter (whole tables and row-by-row markdown)."""
import pytest

from mmsofteq.utils import markdown_header, markdown_row, text_table


def test_markdown_rows_make_the_table_text_table_writes():
    """Row by row or at once, the same GitHub table (up to column padding)."""
    columns, rows = ['case', 'wall [s]'], [['a', '0.10'], ['bb', 1.5]]
    streamed = '\n'.join([markdown_header(columns)] + [markdown_row(row) for row in rows])
    assert streamed == '| case | wall [s] |\n| --- | --- |\n| a | 0.10 |\n| bb | 1.5 |'
    whole = text_table(columns, rows, style='markdown').splitlines()

    def cells(line):
        return [cell.strip() for cell in line.strip().strip('|').split('|')]

    assert [cells(line) for line in whole[:1] + whole[2:]] == [
        cells(line) for line in streamed.splitlines()[:1] + streamed.splitlines()[2:]]
    assert set(cells(whole[1])[0]) <= set(':-')


def test_plain_table_aligns_columns_and_refuses_unknown_styles():
    lines = text_table(['name', 'n'], [['long name', 1], ['x', 22]]).splitlines()
    assert len(lines) == 3
    assert lines[0].split() == ['name', 'n']
    assert lines[1].index('1') == lines[2].index('22') == lines[0].rindex('n')
    with pytest.raises(ValueError, match='style must be one of'):
        text_table(['a'], [[1]], style='html')
