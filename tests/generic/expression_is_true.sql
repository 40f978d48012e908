{#-
    expression_is_true: every row satisfies a SQL boolean expression.

    Arguments
      expression  a boolean SQL expression over the model's columns

    Returns the rows where the expression is false or null.

    Example
      data_tests:
        - expression_is_true:
            arguments:
              expression: "share_of_customers between 0 and 1"
-#}
{% test expression_is_true(model, expression) %}

select *
from {{ model }}
where not coalesce(({{ expression }}), false)

{% endtest %}
