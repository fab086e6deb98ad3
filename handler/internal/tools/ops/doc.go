// Package ops holds the operator commands of the handler binary:
//
//   - RunSend (`handler send`) sends a SnapshotCreated the way a producer
//     would, after checking it with the handler's own validator;
//   - RunStatus (`handler status`) shows one destination chain at a glance:
//     source, last copied snapshot, restore points, and the current copy
//     with a progress bar and an ETA from two progress readings;
//   - RunRestore (`handler restore`) copies a restore point into a new page
//     blob with Copy Blob, follows it to its end and optionally verifies it.
//
// All work against Azure (DefaultAzureCredential) and against the local
// stand-ins (connection strings). None ever prints a SAS or key.
package ops
