{#- The source columns a customer input needs for the feature set: customer_id (optional), each
    measure's column and each categorical's column, in that order, without repeats. Each is a
    dict: key (lowercased source column), shown (as the feature set names it), required, and
    name (= key: staging's <name>_raw, see raw_text_columns). -#}
{% macro input_columns() %}
    {%- set spec = feature_spec() -%}
    {%- set wanted = [{'key': 'customer_id', 'name': 'customer_id', 'shown': 'customer_id', 'required': false}] -%}
    {%- set seen = ['customer_id'] -%}
    {%- for item in spec.measures + spec.categorical -%}
        {%- if item.source_key not in seen -%}
            {%- do seen.append(item.source_key) -%}
            {%- do wanted.append({
                'key': item.source_key, 'name': item.source_key, 'shown': item.column,
                'required': true,
            }) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(wanted) }}
{% endmacro %}
