// @platformatic/kafka (a client that speaks only Kafka 3.5+ API versions) against a node's Kafka listener, as
// issue 15 asks: admin creates a topic, a producer sends 10,000 records with acks=all, a consumer group of two
// reads them all and commits, and a restarted member resumes from the commits. Prints one JSON summary line on
// stdout for PlatformaticKafkaTests to check; progress goes to stderr.
// Usage: node platformatic.mjs <host:port> <topic> <group>
import { Admin, Consumer, Producer, stringDeserializers, stringSerializers } from '@platformatic/kafka'

const [bootstrap, topic, groupId] = process.argv.slice(2)
const bootstrapBrokers = [bootstrap]
const total = 10_000
const late = 100
const log = (...args) => console.error(new Date().toISOString(), ...args)
const deadline = (ms, what) => new Promise((_, reject) => setTimeout(() => reject(new Error(`timed out: ${what}`)), ms).unref())

const admin = new Admin({ clientId: 'it-admin', bootstrapBrokers })
await admin.createTopics({ topics: [topic], partitions: 4, replicas: 1 })
// As in Kafka, leaders are elected after CreateTopics returns.
for (let attempt = 0; ; attempt++) {
  const metadata = await admin.metadata({ topics: [topic], forceUpdate: true })
  const partitions = metadata.topics.get(topic)?.partitions ?? []
  if (partitions.length === 4 && partitions.every(p => p.leader >= 0)) break
  if (attempt > 100) throw new Error('no leaders for ' + topic)
  await new Promise(resolve => setTimeout(resolve, 200))
}
log('topic created')

const producer = new Producer({ clientId: 'it-producer', bootstrapBrokers, serializers: stringSerializers })
async function produce (prefix, count) {
  let acknowledged = 0
  for (let i = 0; i < count; i += 500) {
    const messages = []
    for (let j = i; j < Math.min(count, i + 500); j++) messages.push({ topic, key: `key-${j % 50}`, value: `${prefix}-${j}` })
    const result = await producer.send({ messages, acks: -1 })
    acknowledged += messages.length
    if (!result.offsets?.length) throw new Error('send answered no offsets')
  }
  return acknowledged
}
const produced = await produce('record', total)
log('produced', produced)

function member (clientId, onMessage) {
  const consumer = new Consumer({ clientId, groupId, bootstrapBrokers, deserializers: stringDeserializers, sessionTimeout: 10_000, heartbeatInterval: 500 })
  const started = consumer.consume({ topics: [topic], mode: 'committed', fallbackMode: 'earliest', autocommit: 200, maxWaitTime: 500 })
    .then(stream => { stream.on('data', message => onMessage(message)); return stream })
  return { consumer, started }
}

// A group of two: every record read by one member or the other (a record may be read twice around a rebalance).
const seen = new Set()
const perMember = { a: 0, b: 0 }
let allRead
const done = new Promise(resolve => { allRead = resolve })
const onMessage = name => message => {
  perMember[name]++
  seen.add(message.value)
  if (seen.size === total) allRead()
}
const a = member('it-member-a', onMessage('a'))
const b = member('it-member-b', onMessage('b'))
const streams = await Promise.all([a.started, b.started])
await Promise.race([done, deadline(90_000, `group read ${seen.size} of ${total}`)])
log('group read', seen.size, perMember)
// Closing commits what autocommit has not sent yet, then leaves the group.
for (const stream of streams) await stream.close()
await a.consumer.close()
await b.consumer.close()

// The member restarted: it must start from the group's commits, so it reads only what was produced since.
const producedLater = await produce('late', late)
let lateRead = 0
let oldRead = 0
let resumed
const resumedAll = new Promise(resolve => { resumed = resolve })
const restarted = member('it-member-a', message => {
  if (message.value.startsWith('late-')) lateRead++
  else oldRead++
  if (lateRead === late) resumed()
})
const restartedStream = await restarted.started
await Promise.race([resumedAll, deadline(60_000, `restarted member read ${lateRead} of ${late}`)])
await restartedStream.close()
await restarted.consumer.close()
await producer.close()

const groups = await admin.listGroups()
await admin.close()
console.log(JSON.stringify({ produced, unique: seen.size, perMember, producedLater, lateRead, oldRead, groupListed: [...groups.keys()].includes(groupId) }))
