{#-
    input_file(input_path, var_prefix='input')

    How a CSV or Parquet file is read, with the vars that describe an export checked first:
      input_encoding           utf-8 (default), latin-1 or utf-16
      input_delimiter          auto (default: DuckDB's sniffer), or one character (";", "|", tab)
      input_decimal_separator  "." (default) or "," (macro number_value reads the values)
    Refused with one line naming the var or the file: another encoding or delimiter, a file name
    with a pattern character (* ? [ would read several files), an Excel workbook.
    Returns a dict:
      kind        csv | parquet
      path_sql    the path as a quoted SQL string
      read_sql    the table function that reads it; for CSV with store_rejects, so a line
                  DuckDB cannot parse is recorded (line number, reason) instead of failing
      staged      the temp table a CSV is read into once per build (macro stage_input_file)
      rejects     the temp table with the CSV's parse errors
    On Spark (spark__input_file) the same keys name Spark's readers and temporary views.
-#}
{% macro input_file(input_path, var_prefix='input') %}
    {{- return(adapter.dispatch('input_file', 'customer_segmentation')(input_path, var_prefix)) -}}
{% endmacro %}


{#- The checks on a file name every engine shares: a pattern character or an Excel workbook
    stops the build with one line. -#}
{% macro check_file_name(input_path, label) %}
    {%- set lowered = input_path | string | lower -%}
    {%- for character in ['*', '?', '['] -%}
        {%- if character in input_path | string -%}
            {{ exceptions.raise_compiler_error(label ~ ": the file name contains '" ~ character ~ "', which is read as a pattern that can match several files; rename the file") }}
        {%- endif -%}
    {%- endfor -%}
    {%- if lowered.endswith('.xlsx') or lowered.endswith('.xlsm') or lowered.endswith('.xls') -%}
        {{ exceptions.raise_compiler_error(label ~ ": Excel workbooks are not read by dbt here; run `customer-segmentation convert " ~ input_path ~ "` (writes a Parquet copy) or save the sheet as CSV") }}
    {%- endif -%}
{% endmacro %}


{% macro default__input_file(input_path, var_prefix='input') %}
    {%- set path_sql = "'" ~ (input_path | string | replace("'", "''")) ~ "'" -%}
    {%- set label = var_prefix ~ '_path ' ~ path_sql -%}
    {%- set lowered = input_path | string | lower -%}
    {{ check_file_name(input_path, label) }}
    {%- if lowered.endswith('.parquet') or lowered.endswith('.pq') -%}
        {{ return({
            'kind': 'parquet', 'path_sql': path_sql, 'label': label,
            'read_sql': 'read_parquet(' ~ path_sql ~ ', file_row_number = true)',
            'row_number': 'file_row_number + 1',
        }) }}
    {%- endif -%}
    {%- set staged = var_prefix ~ '_file' -%}
    {%- set options = csv_options() -%}
    {{ return({
        'kind': 'csv', 'path_sql': path_sql, 'label': label, 'staged': staged,
        'rejects': staged ~ '_rejects', 'scans': staged ~ '_scans', 'errors': staged ~ '_errors',
        'read_sql': 'read_csv(' ~ path_sql ~ ', ' ~ options ~ ", store_rejects = true, rejects_table = '"
            ~ staged ~ "_rejects', rejects_scan = '" ~ staged ~ "_scans')",
        'probe_sql': 'read_csv(' ~ path_sql ~ ', ' ~ options ~ ", store_rejects = true, rejects_table = '"
            ~ staged ~ "_probe_rejects', rejects_scan = '" ~ staged ~ "_probe_scans')",
        'header_sql': 'read_csv(' ~ path_sql ~ ', ' ~ (options | replace('header = true', 'header = false')) ~ ', ignore_errors = true)',
    }) }}
{% endmacro %}


{#- The read_csv options from vars input_encoding and input_delimiter, checked. Every value is
    read as text: staging types and checks it, so a bad value costs its row, not the file. -#}
{% macro csv_options() %}
    {%- set options = ['all_varchar = true', 'header = true', "encoding = '" ~ csv_encoding() ~ "'"] -%}
    {%- set delimiter = csv_delimiter() -%}
    {%- if delimiter is not none -%}
        {%- do options.append("delim = '" ~ delimiter ~ "'") -%}
    {%- endif -%}
    {{ return(options | join(', ')) }}
{% endmacro %}


{#- Var input_encoding, checked: utf-8 (default), latin-1 or utf-16 (and their spellings). -#}
{% macro csv_encoding() %}
    {%- set encodings = {
        'utf-8': 'utf-8', 'utf8': 'utf-8',
        'latin-1': 'latin-1', 'latin1': 'latin-1', 'iso-8859-1': 'latin-1',
        'utf-16': 'utf-16', 'utf16': 'utf-16',
    } -%}
    {%- set encoding = (var('input_encoding', none) or 'utf-8') | string | trim | lower -%}
    {%- if encoding not in encodings -%}
        {{ exceptions.raise_compiler_error("var 'input_encoding': expected utf-8, latin-1 or utf-16, got '" ~ encoding ~ "'") }}
    {%- endif -%}
    {{ return(encodings[encoding]) }}
{% endmacro %}


{#- Var input_delimiter, checked: none for auto (the default), else one character. -#}
{% macro csv_delimiter() %}
    {%- set delimiter = var('input_delimiter', none) -%}
    {%- if delimiter is none or (delimiter | string | lower) in ['auto', ''] -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set delimiter = {'tab': '\t', '\\t': '\t'}.get(delimiter | string | lower, delimiter | string) -%}
    {%- if delimiter | length != 1 or delimiter in ['"', "'", '\n', '\r'] -%}
        {{ exceptions.raise_compiler_error("var 'input_delimiter': expected auto or one character such as ',' ';' '|' or tab, got '" ~ delimiter ~ "'") }}
    {%- endif -%}
    {{ return(delimiter) }}
{% endmacro %}
