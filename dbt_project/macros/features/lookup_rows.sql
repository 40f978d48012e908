{#-
    lookup_rows(relation, order_by)

    The rows of a small lookup table (a seed) as a list of dicts, for generating SQL with Jinja:
    one-hot columns, names. Empty at parse time, when nothing has been built yet.

    Example: {% for region in lookup_rows(ref('regions'), 'region_code') %} ... {% endfor %}
-#}
{% macro lookup_rows(relation, order_by) %}
    {%- set rows = [] -%}
    {%- if execute -%}
        {%- set result = run_query('select * from ' ~ relation ~ ' order by ' ~ order_by) -%}
        {%- for row in result.rows -%}
            {%- set item = {} -%}
            {%- for name in result.column_names -%}
                {%- do item.update({name: row[name]}) -%}
            {%- endfor -%}
            {%- do rows.append(item) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(rows) }}
{% endmacro %}
