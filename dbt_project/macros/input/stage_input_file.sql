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
    other inputs, and on Spark, where customer_input already read the file into temporary
    views of the same names when the model compiled (spark_input_file.sql).
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
