{#- Every row of an input (macro customer_input) once, as text: source_row_number, one
    <name>_raw column per column (macro raw_text_columns), parse_reason and raw_line (null for
    a parsed row), then the lines the reader could not parse (macro parse_errors) with their
    reason. A select for a staging model's `source` CTE; the input's own checks follow. -#}
{% macro input_rows(input, columns) -%}
with

parsed as (

    select
        {{ input.row_number }} as source_row_number,
        {{ raw_text_columns(input, columns) }}
    from {{ input.from_sql }}

)

select
    *,
    cast(null as {{ string_type() }}) as parse_reason,
    cast(null as {{ string_type() }}) as raw_line
from parsed
union all
{{ parse_errors(input, columns) }}
{%- endmacro %}
