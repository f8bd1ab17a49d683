// Alerts that wake someone up, and where they go. docs/runbook.md says what each one means
// and what to do. Log alerts query the Application Insights resource (workspace-based).
param namePrefix string
param location string
param tags object = {}

@description('Email address that receives the alerts; empty creates the action group without receivers.')
param alertEmail string = ''

param serviceBusNamespaceId string
param applicationInsightsId string

@description('Name of the collections scan timer function.')
param scanFunctionName string = 'collections_scan'

@description('Hours without a successful scan before the "scan did not run" alert fires.')
param scanMissingHours int = 2

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = {
  name: '${namePrefix}-oncall'
  location: 'global'
  tags: tags
  properties: {
    groupShortName: 'cg-oncall'
    enabled: true
    emailReceivers: empty(alertEmail) ? [] : [
      {
        name: 'oncall-email'
        emailAddress: alertEmail
        useCommonAlertSchema: true
      }
    ]
  }
}

// A message that used up its deliveries (or expired) is in a dead-letter queue.
resource deadLetters 'Microsoft.Insights/metricAlerts@2018-03-01' = {
  name: '${namePrefix}-dead-letters'
  location: 'global'
  tags: tags
  properties: {
    description: 'Dead-lettered messages on a Service Bus queue (runbook: Dead letters).'
    severity: 2
    enabled: true
    scopes: [
      serviceBusNamespaceId
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    criteria: {
      'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'
      allOf: [
        {
          name: 'DeadletteredMessages'
          criterionType: 'StaticThresholdCriterion'
          metricNamespace: 'Microsoft.ServiceBus/namespaces'
          metricName: 'DeadletteredMessages'
          dimensions: [
            {
              name: 'EntityName'
              operator: 'Include'
              values: [
                '*'
              ]
            }
          ]
          operator: 'GreaterThan'
          threshold: 0
          timeAggregation: 'Maximum'
        }
      ]
    }
    actions: [
      {
        actionGroupId: actionGroup.id
      }
    ]
  }
}

// No successful scan in the window: the timer is off, the app is down, or every run failed.
resource scanMissing 'Microsoft.Insights/scheduledQueryRules@2022-06-15' = {
  name: '${namePrefix}-scan-missing'
  location: location
  tags: tags
  properties: {
    description: 'No successful collections scan in the window (runbook: Scan did not run).'
    severity: 1
    enabled: true
    scopes: [
      applicationInsightsId
    ]
    evaluationFrequency: 'PT30M'
    windowSize: 'PT${scanMissingHours}H'
    criteria: {
      allOf: [
        {
          query: 'requests | where operation_Name =~ "${scanFunctionName}" and success == true | summarize successes = count()'
          timeAggregation: 'Total'
          metricMeasureColumn: 'successes'
          operator: 'LessThan'
          threshold: 1
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    actions: {
      actionGroups: [
        actionGroup.id
      ]
    }
  }
}

// A scan run failed, raised, or stopped at an invalid policy file (the run itself then succeeds).
resource scanFailed 'Microsoft.Insights/scheduledQueryRules@2022-06-15' = {
  name: '${namePrefix}-scan-failed'
  location: location
  tags: tags
  properties: {
    description: 'A collections scan failed or raised an exception (runbook: Scan failed).'
    severity: 2
    enabled: true
    scopes: [
      applicationInsightsId
    ]
    evaluationFrequency: 'PT15M'
    windowSize: 'PT1H'
    criteria: {
      allOf: [
        {
          query: 'union isfuzzy=true (requests | where operation_Name =~ "${scanFunctionName}" and success == false | project n = 1), (exceptions | where operation_Name =~ "${scanFunctionName}" | project n = 1), (customMetrics | where name == "collections.scan_policy_invalid" | project n = 1), (traces | where tostring(customDimensions.metric) == "collections.scan_policy_invalid" | project n = 1) | summarize failures = count()'
          timeAggregation: 'Total'
          metricMeasureColumn: 'failures'
          operator: 'GreaterThan'
          threshold: 0
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    actions: {
      actionGroups: [
        actionGroup.id
      ]
    }
  }
}

// The blast-radius cap held suspensions back (`collections.cap_reached`): they wait for approval.
resource scanCapped 'Microsoft.Insights/scheduledQueryRules@2022-06-15' = {
  name: '${namePrefix}-scan-capped'
  location: location
  tags: tags
  properties: {
    description: 'A scan hit the blast-radius cap; suspensions wait for approval (runbook: Cap hit).'
    severity: 2
    enabled: true
    scopes: [
      applicationInsightsId
    ]
    evaluationFrequency: 'PT15M'
    windowSize: 'PT1H'
    criteria: {
      allOf: [
        {
          query: 'union isfuzzy=true (customMetrics | where name == "collections.cap_reached" | project v = valueSum), (traces | where tostring(customDimensions.metric) == "collections.cap_reached" | project v = todouble(customDimensions.value)) | summarize capped = sum(v)'
          timeAggregation: 'Total'
          metricMeasureColumn: 'capped'
          operator: 'GreaterThan'
          threshold: 0
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    actions: {
      actionGroups: [
        actionGroup.id
      ]
    }
  }
}

// A collections alert (`collections.alert`, written once a day to the partner audit too): a year
// without listed days off, warnings held back by the cap, a payments feed that went quiet.
resource collectionsAlert 'Microsoft.Insights/scheduledQueryRules@2022-06-15' = {
  name: '${namePrefix}-collections-alert'
  location: location
  tags: tags
  properties: {
    description: 'The collections scan raised an alert: calendar year missing, warnings capped or payments feed quiet (runbook: Alerts).'
    severity: 2
    enabled: true
    scopes: [
      applicationInsightsId
    ]
    evaluationFrequency: 'PT1H'
    windowSize: 'PT1H'
    criteria: {
      allOf: [
        {
          query: 'union isfuzzy=true (customMetrics | where name == "collections.alert" | project v = valueSum), (traces | where tostring(customDimensions.metric) == "collections.alert" | project v = todouble(customDimensions.value)) | summarize alerts = sum(v)'
          timeAggregation: 'Total'
          metricMeasureColumn: 'alerts'
          operator: 'GreaterThan'
          threshold: 0
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    actions: {
      actionGroups: [
        actionGroup.id
      ]
    }
  }
}

// Partner Center calls fail: a reconcile that failed for good or gave up (`reconcile.alert`), or
// failed HTTP calls to a Partner Center host.
resource partnerCenterFailing 'Microsoft.Insights/scheduledQueryRules@2022-06-15' = {
  name: '${namePrefix}-partner-center-failing'
  location: location
  tags: tags
  properties: {
    description: 'Partner Center calls are failing (runbook: Partner Center failing).'
    severity: 2
    enabled: true
    scopes: [
      applicationInsightsId
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    criteria: {
      allOf: [
        {
          query: 'union isfuzzy=true (customMetrics | where name == "reconcile.alert" | project v = valueSum), (traces | where tostring(customDimensions.metric) == "reconcile.alert" | project v = todouble(customDimensions.value)), (dependencies | where success == false and (target has "partnercenterapi" or target has "partnercenter.microsoft.com") | project v = 1.0) | summarize failures = sum(v)'
          timeAggregation: 'Total'
          metricMeasureColumn: 'failures'
          operator: 'GreaterThan'
          threshold: 0
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    actions: {
      actionGroups: [
        actionGroup.id
      ]
    }
  }
}

output actionGroupId string = actionGroup.id
