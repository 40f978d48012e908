{#- The usable values of a customer row, for the select of customer_row_checks, each item
    followed by a comma: customer_id (the input's, or the row number as text when it has none), each
    measure (zero-filled with its missing flag where the feature set says so), each
    categorical code. Expects the columns of its with_reasons CTE. -#}
{% macro customer_value_columns(has_customer_id) -%}
    {%- if has_customer_id %}
        customer_id_value as customer_id,
    {%- else %}
        cast(source_row_number as {{ string_type() }}) as customer_id,
    {%- endif %}
    {%- for item in feature_spec().measures %}
    {%- if item.missing == 'zero' %}
        coalesce({{ item.source_key }}_value, 0) as {{ item.name }},
        is_{{ item.source_key }}_blank as {{ item.missing_flag }},
    {%- else %}
        {{ item.source_key }}_value as {{ item.name }},
    {%- endif %}
    {%- endfor %}
    {%- for item in feature_spec().categorical %}
        {{ item.code_column }},
    {%- endfor %}
{%- endmacro %}
