using Akka.Actor;
using Broker.Server.Security.Sasl;

namespace Broker.Server.Gateway.ClientDoor;

// Local messages of the client door (ClientDoorActor.cs, ClientSessionActor.cs); none crosses the wire.

/// <summary>A login's password was checked (off the actor's thread: PBKDF2 takes milliseconds).</summary>
internal sealed record LoginChecked(LoginOutcome Outcome, string User, IActorRef ReplyTo, Address Client) : INoSerializationVerificationNeeded;
