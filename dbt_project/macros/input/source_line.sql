{#- The file line of a staged row (the header is line 1) for CSV input; a typed null for
    Parquet, tables and the seed, which have no lines. -#}
{% macro source_line(input) -%}
    {%- if input.kind == 'csv' -%}
    source_row_number + 1
    {%- else -%}
    cast(null as bigint)
    {%- endif -%}
{%- endmacro %}
