import { Controller, UseGuards, UseInterceptors } from '@nestjs/common';
import { GrpcMethod, Payload } from '@nestjs/microservices';
import { ApiExcludeController } from '@nestjs/swagger';

import { GRPC_SERVICES } from '@testkase/contracts';
import { GrpcCoreApiGuard, GrpcMappingInterceptor } from '@testkase/platform';

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
 * operations over gRPC, with the same validation, use cases and error codes. Each RPC answers its
 * own response message; GrpcMappingInterceptor maps enums and times.
 */
@ApiExcludeController()
@UseGuards(GrpcCoreApiGuard)
@UseInterceptors(new GrpcMappingInterceptor(GRPC_SERVICES.comments))
@Controller()
export class CommentsGrpcController {
  constructor(
    private readonly links: LinksService,
    private readonly comments: CommentsService,
  ) {}

  @GrpcMethod('CommentService', 'LinkTestCase')
  async link(@Payload() request: GrpcLinkTestCaseRequest): Promise<{ links: TestCaseLinksView }> {
    const links = await this.links.put(request.projectId, request.requirementId, request.testCaseId, {
      key: request.key,
      title: request.title,
      url: request.url,
      status: request.status ?? null,
    });
    return { links };
  }

  @GrpcMethod('CommentService', 'UnlinkTestCase')
  async unlink(@Payload() request: GrpcTestCaseRef): Promise<{ links: TestCaseLinksView }> {
    return { links: await this.links.remove(request.projectId, request.requirementId, request.testCaseId) };
  }

  @GrpcMethod('CommentService', 'ListTestCases')
  async list(@Payload() request: GrpcRequirementRef): Promise<{ links: TestCaseLinksView }> {
    return { links: await this.links.list(request.projectId, request.requirementId) };
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
  async get(@Payload() request: GrpcCommentRef): Promise<{ comment: CommentView }> {
    return { comment: await this.comments.get(request.projectId, request.defectId, request.commentId) };
  }
}
