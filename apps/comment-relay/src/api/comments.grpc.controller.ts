import { Controller, UseGuards } from '@nestjs/common';
import { GrpcMethod, Payload } from '@nestjs/microservices';
import { ApiExcludeController } from '@nestjs/swagger';

import { GrpcCoreApiGuard } from '@testkase/platform';

import { CommentsService, type CommentOutcome, type CommentView } from '../comments/comments.service';
import { LinksService, type TestCaseLinksView } from '../links/links.service';
import {
  GrpcCommentRef,
  GrpcEditCommentRequest,
  GrpcLinkTestCaseRequest,
  GrpcPostCommentRequest,
  GrpcRequirementRef,
  GrpcTestCaseRef,
} from './dto/grpc-requests.dto';

/**
 * `testkase.gitlab.comments.v1.CommentService` (libs/contracts/proto/comments.proto): the HTTP API's
 * operations over gRPC, with the same validation, use cases and error codes.
 */
@ApiExcludeController()
@UseGuards(GrpcCoreApiGuard)
@Controller()
export class CommentsGrpcController {
  constructor(
    private readonly links: LinksService,
    private readonly comments: CommentsService,
  ) {}

  @GrpcMethod('CommentService', 'LinkTestCase')
  link(@Payload() request: GrpcLinkTestCaseRequest): Promise<TestCaseLinksView> {
    return this.links.put(request.projectId, request.requirementId, request.testCaseId, {
      key: request.key,
      title: request.title,
      url: request.url,
      status: request.status ?? null,
    });
  }

  @GrpcMethod('CommentService', 'UnlinkTestCase')
  unlink(@Payload() request: GrpcTestCaseRef): Promise<TestCaseLinksView> {
    return this.links.remove(request.projectId, request.requirementId, request.testCaseId);
  }

  @GrpcMethod('CommentService', 'ListTestCases')
  list(@Payload() request: GrpcRequirementRef): Promise<TestCaseLinksView> {
    return this.links.list(request.projectId, request.requirementId);
  }

  @GrpcMethod('CommentService', 'PostComment')
  post(
    @Payload() request: GrpcPostCommentRequest,
  ): Promise<{ outcome: CommentOutcome; comment: CommentView }> {
    return this.comments.post(request.projectId, request.defectId, request.commentId, request);
  }

  @GrpcMethod('CommentService', 'EditComment')
  edit(
    @Payload() request: GrpcEditCommentRequest,
  ): Promise<{ outcome: CommentOutcome; comment: CommentView }> {
    return this.comments.edit(request.projectId, request.defectId, request.commentId, request);
  }

  @GrpcMethod('CommentService', 'DeleteComment')
  remove(@Payload() request: GrpcCommentRef): Promise<{ outcome: CommentOutcome; comment: CommentView }> {
    return this.comments.remove(request.projectId, request.defectId, request.commentId);
  }

  @GrpcMethod('CommentService', 'GetComment')
  get(@Payload() request: GrpcCommentRef): Promise<CommentView> {
    return this.comments.get(request.projectId, request.defectId, request.commentId);
  }
}
