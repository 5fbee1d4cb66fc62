"""The one table reader: delimiters, BOM, CRLF, quoting, one-line errors naming the row."""
import pytest

from moco_plugin.utils.tables import TableError, detect_delimiter, parse_columns, read_table


@pytest.mark.parametrize('header, expected', [
    ('path,label', ','), ('path;label;group', ';'), ('path\tlabel', '\t'),
    ('"a,b";c', ';'), ('path', ','), ('a;b,c;d', ';')])
def test_delimiter_is_the_one_that_splits_the_header_most(header, expected):
    assert detect_delimiter(header) == expected


def test_one_column_tsv_name_reads_as_tab():
    assert detect_delimiter('path', 'pool.tsv') == '\t'


def test_bom_crlf_blank_lines_quotes_and_line_numbers(tmp_path):
    path = tmp_path / 't.csv'
    path.write_bytes('\ufeff\r\n path ; label \r\n"a;1.png";cat\r\n\r\nb.png; dog \r\n'.encode())
    table = read_table(str(path), ['path', 'label'])
    assert table.header == ['path', 'label'] and table.delimiter == ';'
    assert table.rows == [(3, dict(path='a;1.png', label='cat')), (5, dict(path='b.png', label='dog'))]


def test_errors_name_file_row_header_and_delimiter(tmp_path):
    path = tmp_path / 't.tsv'
    path.write_text('Filename\tClassId\nx.png\t1\ny.png\t2\textra\n')
    with pytest.raises(TableError, match=r"t.tsv: no column path \(header found: Filename, ClassId; "
                                         r"delimiter detected: tab\); .*--csv-columns Filename"):
        read_table(str(path), ['path'])
    with pytest.raises(TableError, match=r't.tsv line 3: 3 field\(s\), the header has 2'):
        read_table(str(path))
    path.write_text('path,label\n')
    with pytest.raises(TableError, match='no rows below the header'):
        read_table(str(path))
    assert len(read_table(str(path), allow_empty=True)) == 0
    path.write_bytes(b'path,label\n\xff\xfe,1\n')
    with pytest.raises(TableError, match='is not UTF-8 text'):
        read_table(str(path))
    path.write_text('\n\n')
    with pytest.raises(TableError, match='is empty'):
        read_table(str(path))
    with pytest.raises(FileNotFoundError):
        read_table(str(tmp_path / 'missing.csv'))


def test_parse_columns():
    assert parse_columns('Filename, ClassId') == ('Filename', 'ClassId')
    with pytest.raises(ValueError, match='--csv-columns takes 2..2'):
        parse_columns('path', least=2, most=2)
