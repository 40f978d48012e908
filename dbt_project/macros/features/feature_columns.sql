{#-
    one_hot_columns()

    The one-hot select items of the feature set's categorical features (macro feature_spec),
    generated from their lookup seeds: one 0/1 integer column is_<name>_<key> per lookup row,
    in one_hot_order. Each item starts with a comma, so it follows the last hand-written column:

        select customer_id, region_code, channel_code{{ one_hot_columns() }} from customers

    Expects a <name>_code column per categorical feature. A new row in a seed is a new feature.
-#}
{% macro one_hot_columns() %}
    {%- set spec = feature_spec() -%}
    {%- for name in spec.one_hot_order -%}
        {%- set item = (spec.categorical | selectattr('name', 'equalto', name) | first) -%}
        {%- for row in lookup_rows(ref(item.lookup), item.code_column) %},
        cast({{ item.code_column }} = {{ row[item.code_column] }} as integer)
            as is_{{ item.name }}_{{ row[item.name ~ '_key'] }}
        {%- endfor -%}
    {%- endfor -%}
{%- endmacro %}


{#-
    feature_columns(relation)

    The full select list of a feature model: customer_id, then each measure as the fit uses it
    (transform applied, e.g. ln(1 + x) for log1p), its missing flag, each categorical code, and
    the one-hot columns. int_customer_features and int_scoring_features both use it, so SQL
    scoring sees exactly the features the fit saw.
-#}
{% macro feature_columns() %}
    {%- set spec = feature_spec() %}
        customer_id
        {%- for item in spec.measures %},
        {% if item.transform == 'log1p' -%}
        ln(1 + {{ item.name }}) as {{ item.name }}
        {%- else -%}
        {{ item.name }}
        {%- endif %}
        {%- if item.missing_flag %},
        {{ item.missing_flag }}
        {%- endif %}
        {%- endfor %}
        {%- for item in spec.categorical %},
        {{ item.code_column }}
        {%- endfor %}{{ one_hot_columns() }}
{%- endmacro %}
