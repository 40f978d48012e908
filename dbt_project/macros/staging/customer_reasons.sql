{#- The reject reasons of a customer row, one expression per check (null when it passes),
    each followed by a comma, for concat_ws('; ', ...): customer_id blank or a repeat (when
    the input has that column), each measure (macro number_reason), each categorical code
    blank or not in its lookup. Expects the columns of staging's looked_up CTE. -#}
{% macro customer_reasons(has_customer_id) -%}
    {%- if has_customer_id %}
            case
                when is_customer_id_blank then 'customer_id: missing'
                when first_row_with_customer_id < source_row_number
                    then 'customer_id: duplicate of row ' || first_row_with_customer_id
            end,
    {%- endif %}
    {%- for item in feature_spec().measures %}
            {{ number_reason(
                item.source_key, item.column, min=item.min, blank_is_missing=item.missing != 'zero'
            ) }},
    {%- endfor %}
    {%- for item in feature_spec().categorical %}
            case
                when is_{{ item.source_key }}_blank then '{{ item.column }}: missing'
                when {{ item.code_column }} is null
                    then '{{ item.column }}: unknown code (''' || {{ item.source_key }}_raw || ''')'
            end,
    {%- endfor %}
{%- endmacro %}
