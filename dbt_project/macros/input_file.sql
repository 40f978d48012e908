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
-#}
{% macro input_file(input_path, var_prefix='input') %}
    {%- set path_sql = "'" ~ (input_path | string | replace("'", "''")) ~ "'" -%}
    {%- set label = var_prefix ~ '_path ' ~ path_sql -%}
    {%- set lowered = input_path | string | lower -%}
    {%- for character in ['*', '?', '['] -%}
        {%- if character in input_path | string -%}
            {{ exceptions.raise_compiler_error(label ~ ": the file name contains '" ~ character ~ "', which DuckDB reads as a pattern that can match several files; rename the file") }}
        {%- endif -%}
    {%- endfor -%}
    {%- if lowered.endswith('.xlsx') or lowered.endswith('.xlsm') or lowered.endswith('.xls') -%}
        {{ exceptions.raise_compiler_error(label ~ ": Excel workbooks are not read by dbt here; run `customer-segmentation convert " ~ input_path ~ "` (writes a Parquet copy) or save the sheet as CSV") }}
    {%- endif -%}
    {%- if lowered.endswith('.parquet') or lowered.endswith('.pq') -%}
        {{ return({
            'kind': 'parquet', 'path_sql': path_sql, 'label': label,
            'read_sql': 'read_parquet(' ~ path_sql ~ ', file_row_number = true)',
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
    {%- set encodings = {
        'utf-8': 'utf-8', 'utf8': 'utf-8',
        'latin-1': 'latin-1', 'latin1': 'latin-1', 'iso-8859-1': 'latin-1',
        'utf-16': 'utf-16', 'utf16': 'utf-16',
    } -%}
    {%- set encoding = (var('input_encoding', none) or 'utf-8') | string | trim | lower -%}
    {%- if encoding not in encodings -%}
        {{ exceptions.raise_compiler_error("var 'input_encoding': expected utf-8, latin-1 or utf-16, got '" ~ encoding ~ "'") }}
    {%- endif -%}
    {%- set options = ['all_varchar = true', 'header = true', "encoding = '" ~ encodings[encoding] ~ "'"] -%}
    {%- set delimiter = var('input_delimiter', none) -%}
    {%- if delimiter is not none and (delimiter | string | lower) not in ['auto', ''] -%}
        {%- set delimiter = {'tab': '\t', '\\t': '\t'}.get(delimiter | string | lower, delimiter | string) -%}
        {%- if delimiter | length != 1 or delimiter in ['"', "'", '\n', '\r'] -%}
            {{ exceptions.raise_compiler_error("var 'input_delimiter': expected auto or one character such as ',' ';' '|' or tab, got '" ~ delimiter ~ "'") }}
        {%- endif -%}
        {%- do options.append("delim = '" ~ delimiter ~ "'") -%}
    {%- endif -%}
    {{ return(options | join(', ')) }}
{% endmacro %}


{#- Var input_decimal_separator, checked: "." (default) or ",". -#}
{% macro decimal_separator() %}
    {%- set separator = (var('input_decimal_separator', none) or '.') | string | trim -%}
    {%- if separator not in ['.', ','] -%}
        {{ exceptions.raise_compiler_error("var 'input_decimal_separator': expected '.' or ',', got '" ~ separator ~ "'") }}
    {%- endif -%}
    {{ return(separator) }}
{% endmacro %}


{#- Text to double with the input's decimal separator; null when it is not a number. With ","
    a value that also holds a "." (a thousands separator, or a mixed file) is not read: the
    row is rejected rather than read as a different number. -#}
{% macro number_value(text) -%}
    {%- if decimal_separator() == ',' -%}
    case when strpos(trim({{ text }}), '.') = 0
        then try_cast(replace(trim({{ text }}), ',', '.') as double)
    end
    {%- else -%}
    try_cast(trim({{ text }}) as double)
    {%- endif -%}
{%- endmacro %}


{#-
    stage_input_file(input_path, var_prefix='input')

    A model's pre-hook for CSV input, three statements in the model's connection:
      <prefix>_file_parsed  the file read once; parsed_row = position among parsed lines
      <prefix>_file_errors  one row per line DuckDB could not parse (from its reject table):
                            source_row_number (file line - 1: the data line), parse_reason
                            ("line 12: missing columns (Expected Number of Columns: 5 Found:
                            4)", DuckDB's own words), raw_line
      <prefix>_file         the parsed lines with source_row_number, their data line: each
                            parse error before a line shifts it by one (an asof join on the
                            number of parsed lines before each error)
    Line numbers assume one line per record (no line breaks inside quoted values). Empty for
    other inputs, and on Spark (files are read with DuckDB only: see check_files_readable).
-#}
{% macro stage_input_file(input_path, var_prefix='input') %}
    {{- return(adapter.dispatch('stage_input_file', 'customer_segmentation')(input_path, var_prefix)) -}}
{% endmacro %}


{% macro spark__stage_input_file(input_path, var_prefix='input') -%}{%- endmacro %}


{% macro default__stage_input_file(input_path, var_prefix='input') %}
    {%- if input_path -%}
        {%- set file = input_file(input_path, var_prefix) -%}
        {%- if file.kind == 'csv' -%}
    create or replace temp table {{ file.staged }}_parsed as
    select
        row_number() over () as parsed_row,
        *
    from {{ file.read_sql }};

    create or replace temp table {{ file.errors }} as
    select
        cast(line as bigint) - 1 as source_row_number,
        'line ' || line || ': '
        || string_agg(lower(replace(error_type, '_', ' ')) || ' (' || error_message || ')', '; ' order by error_type)
            as parse_reason,
        min(csv_line) as raw_line
    from (
        select distinct
            line,
            error_type,
            error_message,
            csv_line
        from {{ file.rejects }}
        where scan_id = (select max(scan_id) from {{ file.scans }})
    ) as errors
    group by line;

    create or replace temp table {{ file.staged }} as
    with

    error_positions as (

        select
            source_row_number - row_number() over (order by source_row_number) as parsed_before,
            row_number() over (order by source_row_number) as errors_so_far
        from {{ file.errors }}

    ),

    error_offsets as (

        select
            parsed_before,
            max(errors_so_far) as errors_so_far
        from error_positions
        group by parsed_before

    )

    select
        cast(parsed.parsed_row + coalesce(error_offsets.errors_so_far, 0) as bigint) as source_row_number,
        parsed.*
    from {{ file.staged }}_parsed as parsed
    asof left join error_offsets
        on parsed.parsed_row > error_offsets.parsed_before
        {%- endif -%}
    {%- endif -%}
{% endmacro %}


{#- The lines of a CSV input that DuckDB could not parse (see stage_input_file), shaped like
    the parsed rows: source_row_number, each of raw_columns as null, parse_reason, raw_line. No
    rows for other inputs. -#}
{% macro parse_errors(input, raw_columns) -%}
    select
        {%- if input.kind == 'csv' %}
        source_row_number,
        {%- else %}
        cast(null as bigint) as source_row_number,
        {%- endif %}
        {%- for column in raw_columns %}
        cast(null as {{ string_type() }}) as {{ column }},
        {%- endfor %}
        {%- if input.kind == 'csv' %}
        parse_reason,
        raw_line
    from {{ input.errors }}
        {%- else %}
        cast(null as {{ string_type() }}) as parse_reason,
        cast(null as {{ string_type() }}) as raw_line
    where 1 = 0
        {%- endif %}
{%- endmacro %}
