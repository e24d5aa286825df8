/**
 * The retraining worker: worker/Dockerfile's CUDA image on GPU EC2 capacity. `sst.aws.Service` is Fargate-only (no
 * GPUs), so this is plain ECS: a cluster whose capacity provider is an Auto Scaling group of g4dn instances
 * (ECS GPU-optimized AMI), one service with desiredCount 0..1, scaled by the training queue's depth:
 *   - jobs waiting (visible >= 1 for 1 minute)            -> 1 task; ECS managed scaling starts an instance for it;
 *   - nothing waiting or in flight for CLOUD.workerIdleMinutes -> 0 tasks; managed scaling then drains the instance.
 * At most CLOUD.workerMaxInstances (1): one training at a time per deployment. The image is pushed to the ECR
 * repository below (docs/deploy.md: build and push), tagged per deploy with SENTINEL_WORKER_IMAGE_TAG.
 *
 * Networking: public subnets with public IPs and no inbound rule (no NAT gateway to pay for); the worker only makes
 * outbound calls (SQS, S3, Neon, ECR, CloudWatch Logs).
 */
import { CLOUD, SERVICE } from '../shared/config.ts';
import type { Queues } from './queue.ts';
import type { Secrets } from './secrets.ts';
import type { Storage } from './storage.ts';

export interface WorkerArgs {
  storage: Storage;
  queues: Queues;
  secrets: Secrets;
  /** Image tag to run (pushed beforehand); default `latest`. */
  imageTag?: string;
}

const assumeRole = (service: string) =>
  JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: service }, Action: 'sts:AssumeRole' }] });

export function createWorker(args: WorkerArgs) {
  const name = `${$app.name}-${$app.stage}`;
  const repository = new aws.ecr.Repository('WorkerImages', {
    name: `${name}-worker`,
    imageScanningConfiguration: { scanOnPush: true },
    imageTagMutability: 'MUTABLE',
    forceDelete: $app.stage !== 'prod',
  });
  new aws.ecr.LifecyclePolicy('WorkerImagesLifecycle', {
    repository: repository.name,
    policy: JSON.stringify({
      rules: [{ rulePriority: 1, description: 'keep the last 10 images', selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 10 }, action: { type: 'expire' } }],
    }),
  });

  const vpc = new sst.aws.Vpc('Vpc', { az: 2 });
  const securityGroup = new aws.ec2.SecurityGroup('WorkerSecurityGroup', {
    vpcId: vpc.id,
    description: 'Sentinel GPU worker: outbound only',
    egress: [{ protocol: '-1', fromPort: 0, toPort: 0, cidrBlocks: ['0.0.0.0/0'], ipv6CidrBlocks: ['::/0'] }],
  });

  const cluster = new aws.ecs.Cluster('WorkerCluster', {
    name: `${name}-workers`,
    settings: [{ name: 'containerInsights', value: 'enabled' }],
  });

  // Instances: the ECS GPU-optimized AMI (NVIDIA driver + container toolkit), registered to the cluster with GPU support.
  const instanceRole = new aws.iam.Role('WorkerInstanceRole', { assumeRolePolicy: assumeRole('ec2.amazonaws.com') });
  new aws.iam.RolePolicyAttachment('WorkerInstanceEcs', {
    role: instanceRole.name,
    policyArn: 'arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role',
  });
  new aws.iam.RolePolicyAttachment('WorkerInstanceSsm', {
    role: instanceRole.name,
    policyArn: 'arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore',
  });
  const instanceProfile = new aws.iam.InstanceProfile('WorkerInstanceProfile', { role: instanceRole.name });
  const ami = aws.ssm.getParameterOutput({ name: '/aws/service/ecs/optimized-ami/amazon-linux-2/gpu/recommended/image_id' });
  const launchTemplate = new aws.ec2.LaunchTemplate('WorkerLaunchTemplate', {
    imageId: ami.value,
    instanceType: CLOUD.workerInstanceType,
    iamInstanceProfile: { arn: instanceProfile.arn },
    networkInterfaces: [{ associatePublicIpAddress: 'true', securityGroups: [securityGroup.id] }],
    metadataOptions: { httpTokens: 'required', httpEndpoint: 'enabled' },
    blockDeviceMappings: [{ deviceName: '/dev/xvda', ebs: { volumeSize: 60, volumeType: 'gp3', encrypted: 'true' } }],
    userData: cluster.name.apply((clusterName) =>
      Buffer.from(['#!/bin/bash', `echo ECS_CLUSTER=${clusterName} >> /etc/ecs/ecs.config`, 'echo ECS_ENABLE_GPU_SUPPORT=true >> /etc/ecs/ecs.config', ''].join('\n')).toString('base64'),
    ),
  });
  const autoScalingGroup = new aws.autoscaling.Group('WorkerInstances', {
    minSize: 0,
    maxSize: CLOUD.workerMaxInstances,
    desiredCapacity: 0,
    vpcZoneIdentifiers: vpc.publicSubnets,
    launchTemplate: { id: launchTemplate.id, version: '$Latest' },
    // Managed termination protection: ECS only lets the group drop an instance that runs no task.
    protectFromScaleIn: true,
    tags: [{ key: 'AmazonECSManaged', value: 'true', propagateAtLaunch: true }],
  }, { ignoreChanges: ['desiredCapacity'] });
  const capacityProvider = new aws.ecs.CapacityProvider('WorkerCapacity', {
    autoScalingGroupProvider: {
      autoScalingGroupArn: autoScalingGroup.arn,
      managedTerminationProtection: 'ENABLED',
      managedScaling: { status: 'ENABLED', targetCapacity: 100, minimumScalingStepSize: 1, maximumScalingStepSize: 1 },
    },
  });
  new aws.ecs.ClusterCapacityProviders('WorkerClusterCapacity', {
    clusterName: cluster.name,
    capacityProviders: [capacityProvider.name],
    defaultCapacityProviderStrategies: [{ capacityProvider: capacityProvider.name, weight: 1 }],
  });

  // Task: secrets through SSM (decrypted by the execution role at start, never in the task definition).
  const databaseUrlParam = new aws.ssm.Parameter('WorkerDatabaseUrl', {
    name: `/${$app.name}/${$app.stage}/worker/DATABASE_URL`,
    type: 'SecureString',
    value: args.secrets.databaseUrl.value,
  });
  const executionRole = new aws.iam.Role('WorkerExecutionRole', { assumeRolePolicy: assumeRole('ecs-tasks.amazonaws.com') });
  new aws.iam.RolePolicyAttachment('WorkerExecutionPolicy', {
    role: executionRole.name,
    policyArn: 'arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy',
  });
  new aws.iam.RolePolicy('WorkerExecutionSecrets', {
    role: executionRole.id,
    policy: databaseUrlParam.arn.apply((arn) =>
      JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['ssm:GetParameters'], Resource: [arn] }] }),
    ),
  });
  const taskRole = new aws.iam.Role('WorkerTaskRole', { assumeRolePolicy: assumeRole('ecs-tasks.amazonaws.com') });
  new aws.iam.RolePolicy('WorkerTaskAccess', {
    role: taskRole.id,
    policy: $resolve([args.storage.bucket.arn, args.queues.queue.arn, args.queues.deadLetters.arn]).apply(([bucketArn, queueArn, dlqArn]) =>
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:ListBucket', 's3:HeadObject'], Resource: [bucketArn, `${bucketArn}/*`] },
          {
            Effect: 'Allow',
            Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility', 'sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'],
            Resource: [queueArn, dlqArn],
          },
        ],
      }),
    ),
  });
  const logGroup = new aws.cloudwatch.LogGroup('WorkerLogs', { name: `/sentinel/${$app.stage}/worker`, retentionInDays: 30 });
  const region = aws.getRegionOutput().region;
  const taskDefinition = new aws.ecs.TaskDefinition('WorkerTask', {
    family: `${name}-worker`,
    requiresCompatibilities: ['EC2'],
    networkMode: 'awsvpc',
    executionRoleArn: executionRole.arn,
    taskRoleArn: taskRole.arn,
    containerDefinitions: $jsonStringify([
      {
        name: 'worker',
        image: $interpolate`${repository.repositoryUrl}:${args.imageTag ?? 'latest'}`,
        essential: true,
        // g4dn.xlarge: 16 GiB, of which the ECS agent and OS keep ~1 GiB.
        memoryReservation: 12288,
        resourceRequirements: [{ type: 'GPU', value: '1' }],
        stopTimeout: 120,
        environment: [
          { name: 'SENTINEL_BLOB_BUCKET', value: args.storage.bucket.name },
          { name: 'SENTINEL_QUEUE_URL', value: args.queues.queue.url },
          { name: 'SENTINEL_QUEUE_VISIBILITY_SECONDS', value: String(SERVICE.queue.visibilitySeconds) },
          { name: 'SENTINEL_TF_BACKEND', value: 'node-gpu' },
          { name: 'SENTINEL_DATA_DIR', value: '/var/lib/sentinel' },
          { name: 'AWS_REGION', value: region },
          { name: 'LOG_LEVEL', value: 'info' },
        ],
        secrets: [{ name: 'DATABASE_URL', valueFrom: databaseUrlParam.arn }],
        logConfiguration: {
          logDriver: 'awslogs',
          options: { 'awslogs-group': logGroup.name, 'awslogs-region': region, 'awslogs-stream-prefix': 'worker' },
        },
      },
    ]),
  });
  const service = new aws.ecs.Service('WorkerService', {
    cluster: cluster.arn,
    taskDefinition: taskDefinition.arn,
    desiredCount: 0,
    capacityProviderStrategies: [{ capacityProvider: capacityProvider.name, weight: 1 }],
    networkConfiguration: { subnets: vpc.publicSubnets, securityGroups: [securityGroup.id], assignPublicIp: false },
    // A rolling deploy must not start a second GPU task next to the running one.
    deploymentMinimumHealthyPercent: 0,
    deploymentMaximumPercent: 100,
  }, { ignoreChanges: ['desiredCount'] });

  // Scale on the queue: 0 <-> CLOUD.workerMaxInstances tasks.
  const target = new aws.appautoscaling.Target('WorkerScaling', {
    serviceNamespace: 'ecs',
    scalableDimension: 'ecs:service:DesiredCount',
    resourceId: $interpolate`service/${cluster.name}/${service.name}`,
    minCapacity: 0,
    maxCapacity: CLOUD.workerMaxInstances,
  });
  // Step bounds are relative to the alarm threshold: above it (>= 0) to scale out, at or below it (<= 0) to scale in.
  const stepPolicy = (id: string, capacity: number, bound: 'lower' | 'upper') =>
    new aws.appautoscaling.Policy(id, {
      policyType: 'StepScaling',
      serviceNamespace: target.serviceNamespace,
      scalableDimension: target.scalableDimension,
      resourceId: target.resourceId,
      stepScalingPolicyConfiguration: {
        adjustmentType: 'ExactCapacity',
        cooldown: 60,
        metricAggregationType: 'Maximum',
        stepAdjustments: [bound === 'lower' ? { metricIntervalLowerBound: '0', scalingAdjustment: capacity } : { metricIntervalUpperBound: '0', scalingAdjustment: capacity }],
      },
    });
  const scaleUp = stepPolicy('WorkerScaleUp', CLOUD.workerMaxInstances, 'lower');
  const scaleDown = stepPolicy('WorkerScaleDown', 0, 'upper');
  const queueName = args.queues.queue.nodes.queue.name;
  new aws.cloudwatch.MetricAlarm('WorkerJobsWaiting', {
    alarmDescription: 'Training jobs are waiting: start the GPU worker',
    namespace: 'AWS/SQS',
    metricName: 'ApproximateNumberOfMessagesVisible',
    dimensions: { QueueName: queueName },
    statistic: 'Maximum',
    period: 60,
    evaluationPeriods: 1,
    threshold: 1,
    comparisonOperator: 'GreaterThanOrEqualToThreshold',
    treatMissingData: 'notBreaching',
    alarmActions: [scaleUp.arn],
  });
  new aws.cloudwatch.MetricAlarm('WorkerIdle', {
    alarmDescription: 'No training job waiting or running: stop the GPU worker',
    metricQueries: [
      { id: 'visible', metric: { namespace: 'AWS/SQS', metricName: 'ApproximateNumberOfMessagesVisible', dimensions: { QueueName: queueName }, stat: 'Maximum', period: 60 } },
      { id: 'inflight', metric: { namespace: 'AWS/SQS', metricName: 'ApproximateNumberOfMessagesNotVisible', dimensions: { QueueName: queueName }, stat: 'Maximum', period: 60 } },
      { id: 'total', expression: 'visible + inflight', label: 'jobs waiting or in flight', returnData: true },
    ],
    evaluationPeriods: CLOUD.workerIdleMinutes,
    threshold: 0,
    // Fires when the total stayed 0 for the whole idle window (missing data counts as idle).
    comparisonOperator: 'LessThanOrEqualToThreshold',
    treatMissingData: 'breaching',
    alarmActions: [scaleDown.arn],
  });

  return { cluster, service, repository, logGroup };
}
