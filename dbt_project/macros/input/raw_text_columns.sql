{#-
    raw_text_columns(input, columns)

    The select items that read an input's columns as text, one per entry of columns (dicts
    with key, the lowercased source column, and name): cast(<source column> as text) as
    <name>_raw, or a typed null when the input has no such column (an optional column such
    as customer_id). Joined by commas, for staging's first CTE:

        select {{ input.row_number }} as source_row_number, {{ raw_text_columns(input, columns) }}
-#}
{% macro raw_text_columns(input, columns) -%}
    {%- set items = [] -%}
    {%- for column in columns -%}
        {%- do items.append(
            'cast(' ~ input.columns.get(column.key, 'null') ~ ' as ' ~ string_type() ~ ') as '
            ~ column.name ~ '_raw'
        ) -%}
    {%- endfor -%}
    {{ items | join(',\n        ') }}
{%- endmacro %}
