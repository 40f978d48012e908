{#- The lines of a CSV input the engine could not parse (see stage_input_file), shaped like
    the parsed rows: source_row_number, <name>_raw as null for each of columns (as given to
    raw_text_columns), parse_reason, raw_line. No rows for other inputs. -#}
{% macro parse_errors(input, columns) -%}
    select
        {%- if input.kind == 'csv' %}
        source_row_number,
        {%- else %}
        cast(null as bigint) as source_row_number,
        {%- endif %}
        {%- for column in columns %}
        cast(null as {{ string_type() }}) as {{ column.name }}_raw,
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
